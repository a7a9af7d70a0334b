package dev.legate.host.server;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs the Node scripts of {@code src/test/node} (real npm clients and servers: grpc-web, connect, ws), whose
 * {@code node_modules} the build installs with {@code npm ci} before the integration tests. {@code node} must be
 * on the {@code PATH}.
 */
final class NodeScripts {

    /** The Node project; failsafe runs in the module's directory. */
    static final Path DIR = Path.of("src/test/node").toAbsolutePath();

    private NodeScripts() {
    }

    /** What a finished script left: its exit code, stdout and stderr. */
    record Result(int exitCode, String stdout, String stderr) {
        List<String> lines(String prefix) {
            return stdout.lines().filter(l -> l.startsWith(prefix)).toList();
        }

        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr;
        }
    }

    private static ProcessBuilder builder(String script, String... args) {
        if (!Files.isDirectory(DIR.resolve("node_modules"))) {
            throw new IllegalStateException(DIR.resolve("node_modules") + " is missing: the build's `npm ci` step did not run");
        }
        List<String> command = new ArrayList<>(List.of("node", script));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).directory(DIR.toFile());
    }

    /** Runs {@code script} to its end, killing it after {@code timeoutSeconds}. */
    static Result run(int timeoutSeconds, String script, String... args) throws IOException, InterruptedException {
        Process p = builder(script, args).redirectInput(ProcessBuilder.Redirect.PIPE).start();
        p.getOutputStream().close();
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> readAll(p.getInputStream()));
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            return new Result(-1, out.getNow("") + "\n<killed after " + timeoutSeconds + " s>\n", err.getNow(""));
        }
        return new Result(p.exitValue(), out.join(), err.join());
    }

    private static String readAll(java.io.InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "<" + e + ">";
        }
    }

    /**
     * A long-running script (a server): started, then its stdout is read until a line starting with
     * {@code readyPrefix} (returned by {@link Server#ready()}); it ends when {@link Server#close()} closes its stdin.
     */
    static final class Server implements AutoCloseable {
        final Process process;
        final List<String> lines = new java.util.concurrent.CopyOnWriteArrayList<>();
        private final String ready;

        Server(String readyPrefix, String script, String... args) throws IOException, InterruptedException {
            process = builder(script, args).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            CompletableFuture<String> first = new CompletableFuture<>();
            Thread reader = new Thread(() -> {
                try {
                    for (String l; (l = r.readLine()) != null; ) {
                        lines.add(l);
                        if (l.startsWith(readyPrefix)) {
                            first.complete(l);
                        }
                    }
                } catch (IOException ignored) {
                    // the process ended
                }
                first.complete("");
            }, "node-" + script);
            reader.setDaemon(true);
            reader.start();
            try {
                ready = first.get(20, TimeUnit.SECONDS);
            } catch (Exception e) {
                close();
                throw new IllegalStateException(script + " did not print " + readyPrefix + ": " + lines, e);
            }
            if (ready.isEmpty()) {
                close();
                throw new IllegalStateException(script + " ended before printing " + readyPrefix + ": " + lines);
            }
        }

        String ready() {
            return ready;
        }

        /** Waits up to {@code millis} for a line starting with {@code prefix}; returns it or null. */
        String awaitLine(String prefix, long millis) throws InterruptedException {
            long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
            while (System.nanoTime() < end) {
                for (String l : lines) {
                    if (l.startsWith(prefix)) {
                        return l;
                    }
                }
                Thread.sleep(20);
            }
            return null;
        }

        @Override
        public void close() {
            try {
                process.getOutputStream().close();
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            } catch (IOException | InterruptedException e) {
                process.destroyForcibly();
            }
        }
    }
}
