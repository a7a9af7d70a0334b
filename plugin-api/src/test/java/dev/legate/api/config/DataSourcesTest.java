package dev.legate.api.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.legate.api.ConfigException;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each DataSource specifier reads as in Envoy's Config::DataSource::read; errors name the field. */
class DataSourcesTest {

    @Test
    void readsEachSpecifier(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("secret.txt"), "from-file");
        assertThat(DataSources.read(DataSource.newBuilder().setInlineString("s").build(), null, "f", false))
                .isEqualTo("s");
        assertThat(DataSources.read(DataSource.newBuilder().setInlineBytes(ByteString.copyFromUtf8("b")).build(),
                null, "f", false)).isEqualTo("b");
        assertThat(DataSources.read(DataSource.newBuilder().setFilename("secret.txt").build(), dir, "f", false))
                .isEqualTo("from-file");
        assertThat(DataSources.read(DataSource.newBuilder().setEnvironmentVariable("PATH").build(), null, "f", false))
                .isEqualTo(System.getenv("PATH"));
        assertThat(DataSources.read(DataSource.getDefaultInstance(), null, "f", true)).isEmpty();
    }

    @Test
    void errorsNameTheField(@TempDir Path dir) {
        assertThatThrownBy(() -> DataSources.read(DataSource.getDefaultInstance(), null, "body", false))
                .isInstanceOf(ConfigException.class)
                .hasMessage("body: empty (expected: inline_string, inline_bytes, filename or environment_variable)");
        assertThatThrownBy(() -> DataSources.read(
                DataSource.newBuilder().setEnvironmentVariable("LEGATE_SURELY_UNSET_42").build(), null, "pw", false))
                .hasMessage("pw.environment_variable: \"LEGATE_SURELY_UNSET_42\" (expected: a set environment variable)");
        assertThatThrownBy(() -> DataSources.read(
                DataSource.newBuilder().setFilename("missing.txt").build(), dir, "pw", false))
                .hasMessageStartingWith("pw.filename: \"missing.txt\" (expected: a readable file: ");
    }
}
