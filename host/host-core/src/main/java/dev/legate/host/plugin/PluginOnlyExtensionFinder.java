package dev.legate.host.plugin;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.pf4j.IndexedExtensionFinder;
import org.pf4j.PluginManager;
import org.pf4j.PluginWrapper;
import org.pf4j.processor.ExtensionStorage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PF4J's index finder restricted to what plugins themselves declare. Stock PF4J also reads every
 * {@code META-INF/extensions.idx} of the application class path, and a plugin's class loader falls back to the
 * application's index when the plugin has none (PF4J's {@code PAD} strategy for that resource); either way an
 * extension on the host's class path would be counted, or counted twice. Here only the index inside each
 * plugin's own jar counts.
 */
final class PluginOnlyExtensionFinder extends IndexedExtensionFinder {

    private static final Logger log = LoggerFactory.getLogger(PluginOnlyExtensionFinder.class);

    PluginOnlyExtensionFinder(PluginManager pluginManager) {
        super(pluginManager);
    }

    @Override
    public Map<String, Set<String>> readClasspathStorages() {
        Map<String, Set<String>> result = new LinkedHashMap<>();
        result.put(null, new HashSet<>());
        return result;
    }

    @Override
    public Map<String, Set<String>> readPluginsStorages() {
        Map<String, Set<String>> result = new LinkedHashMap<>();
        for (PluginWrapper plugin : pluginManager.getPlugins()) {
            Set<String> bucket = new HashSet<>();
            ClassLoader cl = plugin.getPluginClassLoader();
            URL url = cl instanceof URLClassLoader u ? u.findResource(EXTENSIONS_RESOURCE) : null;
            if (url == null) {
                log.warn("Plugin '{}' ({}) has no {}: it provides no extensions (was it built with PF4J's "
                        + "ExtensionAnnotationProcessor?)", plugin.getPluginId(), plugin.getPluginPath(),
                        EXTENSIONS_RESOURCE);
            } else {
                try (InputStream in = url.openStream();
                     Reader reader = new InputStreamReader(in, StandardCharsets.UTF_8)) {
                    ExtensionStorage.read(reader, bucket);
                } catch (IOException e) {
                    log.error("Cannot read {} of plugin '{}'", EXTENSIONS_RESOURCE, plugin.getPluginId(), e);
                }
            }
            result.put(plugin.getPluginId(), bucket);
        }
        return result;
    }
}
