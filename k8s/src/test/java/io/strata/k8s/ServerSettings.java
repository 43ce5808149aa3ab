package io.strata.k8s;

import io.smallrye.config.WithDefault;
import io.strata.server.config.StrataConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Locale;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a Strata node actually reads: every {@code strata.*} setting of {@link StrataConfig} (walked the way
 * SmallRye Config names them: methods in kebab case, nested groups as prefixes) and the Quarkus settings of
 * the server's application.properties, whose values are the ports and paths the manifests must agree with.
 */
final class ServerSettings {
    private static final Properties APPLICATION = load();

    private ServerSettings() {
    }

    static Set<String> names() {
        Set<String> names = new TreeSet<>();
        walk(StrataConfig.class, "strata.", names);
        APPLICATION.stringPropertyNames().forEach(names::add);
        return names;
    }

    /** A setting's environment variable: upper case, every other character an underscore. */
    static String environmentName(String setting) {
        return setting.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]", "_");
    }

    static Set<String> environmentNames() {
        Set<String> names = new TreeSet<>();
        names().forEach(n -> names.add(environmentName(n)));
        return names;
    }

    /** A value of the server's application.properties (the packaged defaults). */
    static String application(String key) {
        String value = APPLICATION.getProperty(key);
        if (value == null) {
            throw new AssertionError(key + " is not in the server's application.properties");
        }
        return value;
    }

    /** The default of a strata.* setting, from its {@code @WithDefault}. */
    static String strataDefault(String setting) {
        Class<?> type = StrataConfig.class;
        String[] parts = setting.substring("strata.".length()).split("\\.");
        for (int i = 0; i < parts.length; i++) {
            Method m = method(type, parts[i], setting);
            if (i == parts.length - 1) {
                WithDefault d = m.getAnnotation(WithDefault.class);
                if (d == null) {
                    throw new AssertionError(setting + " has no default");
                }
                return d.value();
            }
            type = m.getReturnType();
        }
        throw new AssertionError(setting);
    }

    private static Method method(Class<?> type, String kebab, String setting) {
        for (Method m : type.getMethods()) {
            if (kebab(m.getName()).equals(kebab)) {
                return m;
            }
        }
        throw new AssertionError("no setting " + setting);
    }

    private static void walk(Class<?> type, String prefix, Set<String> names) {
        for (Method m : type.getMethods()) {
            if (Modifier.isStatic(m.getModifiers()) || m.isDefault() || m.getParameterCount() > 0) {
                continue;
            }
            Class<?> result = m.getReturnType();
            String name = prefix + kebab(m.getName());
            if (result.isInterface() && result.getName().startsWith("io.strata.")) {
                walk(result, name + ".", names);
            } else {
                names.add(name);
            }
        }
    }

    private static String kebab(String camel) {
        return camel.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
    }

    /** The application.properties beside StrataConfig (in the server's jar or classes), not another jar's. */
    private static Properties load() {
        Properties p = new Properties();
        try {
            java.nio.file.Path origin = java.nio.file.Path.of(
                    StrataConfig.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (java.nio.file.Files.isDirectory(origin)) {
                try (InputStream in = java.nio.file.Files.newInputStream(origin.resolve("application.properties"))) {
                    p.load(in);
                }
            } else {
                try (java.util.jar.JarFile jar = new java.util.jar.JarFile(origin.toFile());
                     InputStream in = jar.getInputStream(jar.getEntry("application.properties"))) {
                    p.load(in);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (java.net.URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("the server's application.properties was not found", e);
        }
        return p;
    }
}
