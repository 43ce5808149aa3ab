package io.strata.k8s;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/** The image a module's Maven build makes with Jib, as its pom configures it. */
record JibImage(String from, String to, String user, List<Integer> ports, Map<String, String> environment,
                String entrypoint, List<String> jvmFlags) {

    static JibImage of(Path pom) throws Exception {
        Element project = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(pom.toFile())
                .getDocumentElement();
        NodeList plugins = project.getElementsByTagName("plugin");
        for (int i = 0; i < plugins.getLength(); i++) {
            Element plugin = (Element) plugins.item(i);
            if (text(plugin, "artifactId").equals("jib-maven-plugin")) {
                Element c = child(plugin, "configuration");
                Element container = child(c, "container");
                List<Integer> ports = new ArrayList<>();
                Element portList = child(container, "ports");
                if (portList != null) {
                    children(portList).forEach(p -> ports.add(Integer.parseInt(p.getTextContent().strip())));
                }
                Map<String, String> env = new LinkedHashMap<>();
                Element environment = child(container, "environment");
                if (environment != null) {
                    children(environment).forEach(e -> env.put(e.getTagName(), e.getTextContent().strip()));
                }
                List<String> entrypoint = new ArrayList<>();
                Element entry = child(container, "entrypoint");
                if (entry != null) {
                    children(entry).forEach(a -> entrypoint.add(a.getTextContent().strip()));
                }
                List<String> flags = new ArrayList<>();
                Element jvmFlags = child(container, "jvmFlags");
                if (jvmFlags != null) {
                    children(jvmFlags).forEach(f -> flags.add(f.getTextContent().strip()));
                }
                return new JibImage(text(child(c, "from"), "image"), text(child(c, "to"), "image"),
                        text(container, "user"), ports, env, String.join(" ", entrypoint), flags);
            }
        }
        throw new AssertionError("no jib-maven-plugin in " + pom);
    }

    /** The image's repository, without the tag. */
    String repository() {
        return to.substring(0, to.lastIndexOf(':'));
    }

    /** The tag, with Maven's ${project.version} as the build resolves it. */
    String tag() {
        return to.substring(to.lastIndexOf(':') + 1).replace("${project.version}", System.getProperty("strata.version"));
    }

    private static Element child(Element parent, String name) {
        for (Element e : children(parent)) {
            if (e.getTagName().equals(name)) {
                return e;
            }
        }
        return null;
    }

    private static List<Element> children(Element parent) {
        List<Element> elements = new ArrayList<>();
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e) {
                elements.add(e);
            }
        }
        return elements;
    }

    private static String text(Element parent, String name) {
        Element e = child(parent, name);
        return e == null ? "" : e.getTextContent().strip();
    }
}
