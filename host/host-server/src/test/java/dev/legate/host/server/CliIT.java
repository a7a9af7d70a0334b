package dev.legate.host.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code ./legate} launcher as a user runs it: a separate process, exit codes, messages. */
class CliIT {

    static final Path REPO = Path.of(System.getProperty("legate.repo", "../.."));

    record Result(int exit, String out, String err) { }

    static Result legate(Duration timeout, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(REPO.resolve("legate").toString());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(REPO.toFile()).start();
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("legate " + String.join(" ", args) + " did not exit within " + timeout);
        }
        return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8),
                new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    @Test
    void validateModeAcceptsTheQuickstart() throws Exception {
        Result r = legate(Duration.ofSeconds(60), "--mode", "validate", "-c", "configs/quickstart.yaml");
        assertThat(r.exit()).as(r.err()).isEqualTo(0);
        assertThat(r.out()).contains("configuration 'configs/quickstart.yaml' OK");
    }

    @Test
    void unknownFieldNamesTheFieldAndTheFileWithoutAStackTrace(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, Files.readString(REPO.resolve("configs/quickstart.yaml"))
                .replace("stat_prefix: ingress_http", "stat_prefx: ingress_http"));
        Result r = legate(Duration.ofSeconds(60), "--mode", "validate", "-c", bad.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains(bad.toString()).contains("stat_prefx")
                .contains("static_resources.listeners[0].filter_chains[0].filters[0].typed_config")
                .doesNotContain("\tat ").doesNotContain("Exception");
    }

    @Test
    void missingFileIsNamed() throws Exception {
        Result r = legate(Duration.ofSeconds(60), "-c", "/nonexistent/envoy.yaml");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("/nonexistent/envoy.yaml").doesNotContain("\tat ");
    }

    @Test
    void noArgumentsServesTheQuickstartUntilQuitquitquit() throws Exception {
        Process p = new ProcessBuilder(REPO.resolve("legate").toString()).directory(REPO.toFile())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            HttpResponse<String> r = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (System.nanoTime() < deadline) {
                try {
                    r = Proxy.CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:10000/")).build(),
                            HttpResponse.BodyHandlers.ofString());
                    break;
                } catch (IOException notYet) {
                    Thread.sleep(200);
                }
            }
            assertThat(r).as("127.0.0.1:10000 answered within 60 s").isNotNull();
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).contains("Welcome to Legate");
            // a real client: curl against the admin listener
            Process curl = new ProcessBuilder("curl", "-sS", "-X", "POST", "http://127.0.0.1:9901/quitquitquit")
                    .redirectErrorStream(true).start();
            assertThat(curl.waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("OK\n");
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("legate exits after /quitquitquit").isTrue();
            assertThat(p.exitValue()).isEqualTo(0);
        } finally {
            p.destroyForcibly();
        }
    }
}
