package dev.legate.host.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Envoy's admin endpoints as a function of method and URI (Envoy's {@code AdminImpl} handler table): the
 * handler is chosen by exact match of the path before {@code ?}; handlers that change server state want
 * {@code POST} and answer any other method with 405 {@code Method GET not allowed, POST required.}; an
 * unknown path is 404 {@code invalid path. } followed by the help text. Runs on the admin thread.
 */
final class AdminEndpoints {

    static final String TEXT = "text/plain; charset=UTF-8";
    static final String JSON = "application/json";

    /** An admin answer; {@code afterResponse} runs on a fresh thread once the response was flushed. */
    record Response(int status, String contentType, String body, Runnable afterResponse) {
        Response(int status, String contentType, String body) {
            this(status, contentType, body, null);
        }
    }

    private record Endpoint(String path, String help, boolean postOnly) {
    }

    private static final List<Endpoint> ENDPOINTS = List.of(
            new Endpoint("/", "Admin home page", false),
            new Endpoint("/clusters", "upstream cluster status", false),
            new Endpoint("/config_dump", "dump current Envoy configs", false),
            new Endpoint("/healthcheck/fail", "cause the server to fail health checks", true),
            new Endpoint("/healthcheck/ok", "cause the server to pass health checks", true),
            new Endpoint("/help", "print out list of admin commands", false),
            new Endpoint("/listeners", "print listener info", false),
            new Endpoint("/plugins", "print loaded plugins, their versions and the filters they provide", false),
            new Endpoint("/quitquitquit", "exit the server", true),
            new Endpoint("/ready", "print server state, return 200 if LIVE, otherwise return 503", false),
            new Endpoint("/server_info", "print server version/status information", false),
            new Endpoint("/stats", "print server stats", false),
            new Endpoint("/stats/prometheus", "print server stats in prometheus format", false));

    static final String HELP;

    static {
        StringBuilder sb = new StringBuilder("admin commands are:\n");
        for (Endpoint e : ENDPOINTS) {
            sb.append("  ").append(e.path()).append(": ").append(e.help()).append('\n');
        }
        HELP = sb.toString();
    }

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final AdminContext ctx;
    private final AdminJson json;

    AdminEndpoints(AdminContext ctx) {
        this.ctx = ctx;
        this.json = new AdminJson(ctx);
    }

    Response handle(String method, String uri) {
        QueryStringDecoder q = new QueryStringDecoder(uri);
        String path = q.path();
        Endpoint endpoint = null;
        for (Endpoint e : ENDPOINTS) {
            if (e.path().equals(path)) {
                endpoint = e;
            }
        }
        if (endpoint == null) {
            return new Response(404, TEXT, "invalid path. " + HELP);
        }
        if (endpoint.postOnly() && !method.equals("POST")) {
            return new Response(405, TEXT, "Method " + method + " not allowed, POST required.\n");
        }
        Map<String, List<String>> params = q.parameters();
        try {
            return switch (path) {
                case "/", "/help" -> new Response(200, TEXT, HELP);
                case "/ready" -> {
                    String state = ctx.state();
                    yield new Response("LIVE".equals(state) ? 200 : 503, TEXT, state + "\n");
                }
                case "/stats" -> stats(params);
                case "/stats/prometheus" -> prometheus(params);
                case "/clusters" -> new Response(200, TEXT, ctx.clustersText());
                case "/listeners" -> listeners(params);
                case "/config_dump" -> new Response(200, JSON, json.configDump());
                case "/server_info" -> new Response(200, JSON, json.serverInfo());
                case "/plugins" -> new Response(200, JSON, plugins());
                case "/quitquitquit" -> new Response(200, TEXT, "OK\n", ctx::quit);
                case "/healthcheck/fail" -> {
                    ctx.setHealthCheckFailed(true);
                    yield new Response(200, TEXT, "OK\n");
                }
                case "/healthcheck/ok" -> {
                    ctx.setHealthCheckFailed(false);
                    yield new Response(200, TEXT, "OK\n");
                }
                default -> new Response(404, TEXT, "invalid path. " + HELP);
            };
        } catch (Exception e) {
            return new Response(500, TEXT, path + ": " + e + "\n");
        }
    }

    private static String param(Map<String, List<String>> params, String name) {
        List<String> v = params.get(name);
        return v == null || v.isEmpty() ? null : v.get(0);
    }

    private Response stats(Map<String, List<String>> params) {
        Pattern filter;
        try {
            filter = filter(params);
        } catch (PatternSyntaxException e) {
            return new Response(400, TEXT, "Invalid regex: " + e.getDescription() + "\n");
        }
        String format = param(params, "format");
        if (format == null || format.equals("text")) {
            return new Response(200, TEXT, ctx.stats().renderText(filter));
        }
        return switch (format) {
            case "json" -> new Response(200, JSON, ctx.stats().renderJson(filter));
            case "prometheus" -> new Response(200, TEXT, ctx.stats().renderPrometheus(filter));
            default -> new Response(400, TEXT, "usage: /stats?format=json  or /stats?format=prometheus \n\n");
        };
    }

    private Response prometheus(Map<String, List<String>> params) {
        try {
            return new Response(200, TEXT, ctx.stats().renderPrometheus(filter(params)));
        } catch (PatternSyntaxException e) {
            return new Response(400, TEXT, "Invalid regex: " + e.getDescription() + "\n");
        }
    }

    private static Pattern filter(Map<String, List<String>> params) {
        String f = param(params, "filter");
        return f == null || f.isEmpty() ? null : Pattern.compile(f);
    }

    private Response listeners(Map<String, List<String>> params) throws Exception {
        List<ListenerInfo> list = ctx.listeners();
        if ("json".equals(param(params, "format"))) {
            return new Response(200, JSON, json.listeners(list));
        }
        StringBuilder sb = new StringBuilder();
        for (ListenerInfo l : list) {
            InetSocketAddress a = l.address();
            String ip = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
            sb.append(l.name()).append("::").append(ip.indexOf(':') >= 0 ? "[" + ip + "]" : ip)
                    .append(':').append(a.getPort()).append('\n');
        }
        return new Response(200, TEXT, sb.toString());
    }

    private String plugins() throws Exception {
        ArrayNode arr = JsonNodeFactory.instance.arrayNode();
        for (PluginInfo p : ctx.plugins()) {
            ObjectNode o = arr.addObject();
            o.put("id", p.id()).put("version", p.version()).put("state", p.state());
            ArrayNode filters = o.putArray("filters");
            p.filters().forEach(filters::add);
        }
        return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(arr) + "\n";
    }
}
