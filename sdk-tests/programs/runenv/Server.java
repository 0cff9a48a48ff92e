// A small HTTP service on com.sun.net.httpserver: GET answers with JSON, as server.py.
import com.sun.net.httpserver.HttpServer;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;

public class Server {
	public static void main(String[] args) throws Exception {
		int port = Integer.parseInt(args[0]);
		HttpServer server = HttpServer.create(new InetSocketAddress("0.0.0.0", port), 64);
		server.createContext("/", exchange -> {
			String path = exchange.getRequestURI().getPath();
			byte[] body = ("{\"path\": \"" + path + "\", \"pid\": " + (ProcessHandle.current().pid() > 0) + "}")
				.getBytes(StandardCharsets.UTF_8);
			exchange.getResponseHeaders().set("Content-Type", "application/json");
			exchange.sendResponseHeaders(200, body.length);
			try (OutputStream out = exchange.getResponseBody()) {
				out.write(body);
			}
		});
		server.setExecutor(Executors.newFixedThreadPool(4));
		server.start();
		System.out.println("listening on " + port);
	}
}
