// What a Java service does: 64 threads, an HTTP server answering its own
// client on loopback, a child process; run by km and natively.
import com.sun.net.httpserver.HttpServer;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

public class Threads {
	public static void main(String[] args) throws Exception {
		AtomicInteger count = new AtomicInteger();
		List<Thread> threads = new ArrayList<>();
		for (int i = 0; i < 64; i++) {
			Thread t = new Thread(() -> {
				for (int j = 0; j < 1000; j++)
					count.incrementAndGet();
			});
			threads.add(t);
			t.start();
		}
		for (Thread t : threads)
			t.join();
		System.out.println("64 threads counted " + count.get());

		HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
		server.createContext("/", exchange -> {
			byte[] body = ("hello " + exchange.getRequestURI().getPath()).getBytes(StandardCharsets.UTF_8);
			exchange.sendResponseHeaders(200, body.length);
			try (OutputStream out = exchange.getResponseBody()) {
				out.write(body);
			}
		});
		server.start();
		int port = server.getAddress().getPort();
		HttpResponse<String> response = HttpClient.newHttpClient().send(
			HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/client")).build(),
			HttpResponse.BodyHandlers.ofString());
		System.out.println("http " + response.statusCode() + " " + response.body());
		try (InputStream in = URI.create("http://127.0.0.1:" + port + "/url").toURL().openStream()) {
			System.out.println("url " + new String(in.readAllBytes(), StandardCharsets.UTF_8));
		}
		server.stop(0);

		Process p = new ProcessBuilder("/bin/sh", "-c", "echo child $0; exit 3", "sh").start();
		String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
		System.out.println("process said '" + out + "', exit " + p.waitFor());
		System.exit(5);
	}
}
