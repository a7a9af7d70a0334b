package dev.legate.host.plugin;

import dev.legate.host.plugin.fixture.EchoNetworkFilterFactory;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;

/** Writes small PF4J plugin jars for tests: a manifest, optionally an extensions index, and fixture classes. */
final class PluginJars {

    private PluginJars() {
    }

    /**
     * A plugin jar with the fixture classes ({@code dev.legate.host.plugin.fixture.Echo*}) and, when
     * {@code extensions} is non-empty, a {@code META-INF/extensions.idx} listing them. No {@code Plugin-Class}.
     */
    static Path write(Path dir, String pluginId, List<String> extensions) throws IOException {
        Manifest mf = new Manifest();
        Attributes a = mf.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        if (pluginId != null) {
            a.putValue("Plugin-Id", pluginId);
            a.putValue("Plugin-Version", "1.2.3");
            a.putValue("Plugin-Provider", "Legate tests");
            a.putValue("Plugin-Description", "a test plugin");
        }
        Path jar = dir.resolve((pluginId == null ? "not-a-plugin" : pluginId) + ".jar");
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out, mf)) {
            if (!extensions.isEmpty()) {
                j.putNextEntry(new JarEntry("META-INF/extensions.idx"));
                j.write((String.join("\n", extensions) + "\n").getBytes(StandardCharsets.UTF_8));
                j.closeEntry();
            }
            Path classes = testClasses();
            Path pkg = classes.resolve("dev/legate/host/plugin/fixture");
            try (Stream<Path> files = Files.list(pkg)) {
                for (Path f : files.filter(p -> p.getFileName().toString().startsWith("Echo")).toList()) {
                    j.putNextEntry(new JarEntry(classes.relativize(f).toString().replace('\\', '/')));
                    j.write(Files.readAllBytes(f));
                    j.closeEntry();
                }
            }
        }
        return jar;
    }

    private static Path testClasses() {
        try {
            return Path.of(EchoNetworkFilterFactory.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
