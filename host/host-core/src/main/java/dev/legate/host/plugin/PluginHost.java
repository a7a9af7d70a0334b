package dev.legate.host.plugin;

import static java.util.Objects.requireNonNull;

import dev.legate.api.ConfigException;
import dev.legate.api.http.HttpFilterFactory;
import dev.legate.api.network.NetworkFilterFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.pf4j.DefaultPluginManager;
import org.pf4j.ExtensionFinder;
import org.pf4j.PluginManager;
import org.pf4j.PluginState;
import org.pf4j.PluginWrapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PF4J plugins of one server and the {@link FilterRegistry} of the factories they provide.
 *
 * <p>Plugins are plain jars (or zips) in the plugin roots whose manifest carries {@code Plugin-Id},
 * {@code Plugin-Version}, {@code Plugin-Provider} and {@code Plugin-Description}; a {@code Plugin-Class} is optional
 * (PF4J 3.15 then uses {@code org.pf4j.Plugin} itself). Their factories are PF4J extensions listed in the jar's
 * {@code META-INF/extensions.idx}; only those count, never extensions on the application class path. Built-in
 * filters (the distribution's {@code plugins-builtin/}) load exactly like third-party ones ({@code --plugins-dir}).
 *
 * <p>Start-up fails ({@link ConfigException}) on a jar that is not a valid plugin, a plugin id loaded twice, a
 * plugin that does not start, or a filter name provided twice. Created and closed on the main thread.
 */
public final class PluginHost implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(PluginHost.class);

    /**
     * A loaded plugin, for {@code /plugins}.
     *
     * @param id      {@code Plugin-Id}
     * @param version {@code Plugin-Version}
     * @param state   PF4J's state name ({@code STARTED}, {@code STOPPED}, ...)
     * @param path    the jar it came from
     * @param filters the filter names it provides, sorted
     */
    public record PluginDescription(String id, String version, String state, Path path, List<String> filters) {
    }

    private final PluginManager manager;
    private final FilterRegistry registry;
    private final List<String> loaded;
    private final List<String> started;

    private PluginHost(PluginManager manager, FilterRegistry registry, List<String> loaded, List<String> started) {
        this.manager = manager;
        this.registry = registry;
        this.loaded = loaded;
        this.started = started;
    }

    /**
     * Loads and starts the plugins of {@code roots} (missing roots are logged and skipped) and registers their
     * factories, then {@code extraFactories} under {@link FilterRegistry#APPLICATION}.
     *
     * @param roots          plugin folders, in order (built-ins first)
     * @param extraFactories factories given directly, e.g. by tests; may be empty
     * @throws ConfigException on a bad plugin or a duplicate filter name; nothing stays loaded then
     */
    public static PluginHost load(List<Path> roots, List<?> extraFactories) {
        requireNonNull(roots, "roots");
        requireNonNull(extraFactories, "extraFactories");
        List<Path> existing = new ArrayList<>();
        for (Path root : roots) {
            if (Files.isDirectory(root)) {
                existing.add(root.toAbsolutePath().normalize());
            } else {
                log.info("Plugin folder {} does not exist: no plugins from there", root);
            }
        }
        PluginManager manager = existing.isEmpty() ? null : newManager(existing);
        List<String> loaded = new ArrayList<>();
        List<String> started = new ArrayList<>();
        PluginHost host = null;
        try {
            FilterRegistry.Builder registry = FilterRegistry.builder();
            if (manager != null) {
                for (Path root : existing) {
                    for (Path jar : pluginFiles(root)) {
                        loaded.add(loadOne(manager, jar));
                    }
                }
                for (String id : loaded) {
                    startOne(manager, manager.getPlugin(id));
                    started.add(id);
                }
                for (String id : started) {
                    int before = registry.build().registrations().size();
                    for (NetworkFilterFactory<?> f : manager.getExtensions(NetworkFilterFactory.class, id)) {
                        registry.add(id, f);
                    }
                    for (HttpFilterFactory<?> f : manager.getExtensions(HttpFilterFactory.class, id)) {
                        if (!(f instanceof NetworkFilterFactory<?>)) { // both kinds: registered above
                            registry.add(id, f);
                        }
                    }
                    int count = registry.build().registrations().size() - before;
                    PluginWrapper w = manager.getPlugin(id);
                    log.info("Plugin {}@{} from {}: {} filter(s)", id, w.getDescriptor().getVersion(),
                            w.getPluginPath(), count);
                }
            }
            for (Object f : extraFactories) {
                registry.add(FilterRegistry.APPLICATION, f);
            }
            host = new PluginHost(manager, registry.build(), loaded, started);
            return host;
        } finally {
            if (host == null && manager != null) {
                unloadAll(manager, started);
            }
        }
    }

    private static PluginManager newManager(List<Path> roots) {
        return new DefaultPluginManager(roots) {
            @Override
            protected ExtensionFinder createExtensionFinder() {
                PluginOnlyExtensionFinder finder = new PluginOnlyExtensionFinder(this);
                addPluginStateListener(finder);
                return finder;
            }
        };
    }

    private static List<Path> pluginFiles(Path root) {
        try (Stream<Path> files = Files.list(root)) {
            return files.filter(p -> {
                String n = p.getFileName().toString();
                return Files.isRegularFile(p) && (n.endsWith(".jar") || n.endsWith(".zip"));
            }).sorted().toList();
        } catch (IOException e) {
            throw new ConfigException("plugin folder " + root + ": cannot list: " + e.getMessage(), e);
        }
    }

    private static String loadOne(PluginManager manager, Path jar) {
        String id;
        try {
            id = manager.loadPlugin(jar);
        } catch (RuntimeException e) {
            throw new ConfigException("plugin " + jar + ": " + rootMessage(e), e);
        }
        if (id == null) {
            throw new ConfigException("plugin " + jar + ": not loaded (see the log)");
        }
        log.debug("Loaded plugin {} from {}", id, jar);
        return id;
    }

    private static void startOne(PluginManager manager, PluginWrapper plugin) {
        String id = plugin.getPluginId();
        PluginState state;
        try {
            state = manager.startPlugin(id);
        } catch (RuntimeException e) {
            throw new ConfigException("plugin " + id + " (" + plugin.getPluginPath() + ") did not start: "
                    + rootMessage(e), e);
        }
        if (state != PluginState.STARTED) {
            Throwable cause = plugin.getFailedException();
            throw new ConfigException("plugin " + id + " (" + plugin.getPluginPath() + ") did not start: state "
                    + state + (cause == null ? "" : ": " + rootMessage(cause)), cause);
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String m = t.getMessage();
        return m == null ? t.getClass().getSimpleName() : m;
    }

    /** The factories of every started plugin and the extra ones. */
    public FilterRegistry registry() {
        return registry;
    }

    /** The loaded plugins in load order, for {@code /plugins}. */
    public List<PluginDescription> plugins() {
        if (manager == null) {
            return List.of();
        }
        List<PluginDescription> out = new ArrayList<>();
        for (String id : loaded) {
            PluginWrapper w = manager.getPlugin(id);
            if (w == null) {
                continue; // unloaded by close()
            }
            out.add(new PluginDescription(w.getPluginId(), w.getDescriptor().getVersion(),
                    w.getPluginState().name(), w.getPluginPath(),
                    registry.filterNamesOf(w.getPluginId())));
        }
        return List.copyOf(out);
    }

    /**
     * Stops and unloads the plugins one by one, in reverse start order (PF4J 3.15's {@code stopPlugins()} throws
     * {@code ConcurrentModificationException}). Idempotent; errors are logged.
     */
    @Override
    public void close() {
        if (manager != null) {
            unloadAll(manager, started);
        }
    }

    private static void unloadAll(PluginManager manager, List<String> started) {
        List<String> ids = new ArrayList<>();
        for (PluginWrapper w : manager.getPlugins()) {
            ids.add(w.getPluginId());
        }
        // stop in reverse start order, then unload everything that is loaded
        for (int i = started.size() - 1; i >= 0; i--) {
            String id = started.get(i);
            try {
                if (manager.getPlugin(id) != null && manager.getPlugin(id).getPluginState() == PluginState.STARTED) {
                    manager.stopPlugin(id);
                }
            } catch (RuntimeException e) {
                log.warn("Cannot stop plugin {}", id, e);
            }
        }
        for (int i = ids.size() - 1; i >= 0; i--) {
            String id = ids.get(i);
            try {
                if (manager.getPlugin(id) != null) {
                    manager.unloadPlugin(id);
                }
            } catch (RuntimeException e) {
                log.warn("Cannot unload plugin {}", id, e);
            }
        }
        started.clear();
    }
}
