package io.strata.console.web;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The console's files, read once from this jar into memory (a few tens of KiB): nothing is fetched from a CDN or
 * the disk at run time. The list of files is {@code strata-console/assets.txt}; a path that is not a file is the
 * page itself (the console routes with the URL's fragment, but a reload of any console path still finds it).
 */
public final class Assets {
    /** A file: its bytes, content type and a tag that changes with its content. */
    public record Asset(String path, byte[] bytes, String contentType, String etag) {
    }

    private static final String ROOT = "strata-console/";
    private final Map<String, Asset> files = new LinkedHashMap<>();

    private Assets() {
    }

    /** The files the jar holds. */
    public static Assets load() {
        Assets assets = new Assets();
        ClassLoader loader = Assets.class.getClassLoader();
        for (String line : new String(read(loader, "assets.txt"), StandardCharsets.UTF_8).split("\n")) {
            String name = line.trim();
            if (!name.isEmpty() && !name.startsWith("#")) {
                byte[] bytes = read(loader, name);
                assets.files.put(name, new Asset(name, bytes, contentType(name), etag(bytes)));
            }
        }
        if (!assets.files.containsKey("index.html")) {
            throw new IllegalStateException("the console's assets have no index.html");
        }
        return assets;
    }

    /** The file at {@code path} below the console's root ("" and unknown paths are the page). */
    public Asset get(String path) {
        return Optional.ofNullable(files.get(path)).orElse(files.get("index.html"));
    }

    public Map<String, Asset> all() {
        return Map.copyOf(files);
    }

    private static byte[] read(ClassLoader loader, String name) {
        try (InputStream in = loader.getResourceAsStream(ROOT + name)) {
            if (in == null) {
                throw new IllegalStateException("the console's asset " + ROOT + name + " is not in the jar");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String contentType(String name) {
        if (name.endsWith(".html")) {
            return "text/html; charset=utf-8";
        } else if (name.endsWith(".js")) {
            return "text/javascript; charset=utf-8";
        } else if (name.endsWith(".css")) {
            return "text/css; charset=utf-8";
        } else if (name.endsWith(".svg")) {
            return "image/svg+xml";
        }
        return "application/octet-stream";
    }

    private static String etag(byte[] bytes) {
        try {
            return "\"" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes), 0, 12) + "\"";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
