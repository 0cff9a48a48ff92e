// What a Java service leans on, printed in one line: threads, zip, a child
// process, the CA store, TLS, a clock and the JVM's view of the machine.
import java.io.File;
import java.security.KeyStore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;
import javax.net.ssl.SSLContext;

public class Probe {
	public static void main(String[] args) throws Exception {
		AtomicLong sum = new AtomicLong();
		Thread[] threads = new Thread[16];
		for (int i = 0; i < threads.length; i++) {
			final long n = i;
			threads[i] = new Thread(() -> sum.addAndGet(n));
			threads[i].start();
		}
		for (Thread t : threads)
			t.join();
		CRC32 crc = new CRC32();
		crc.update("km".getBytes());
		Process child = new ProcessBuilder("java", "-version").redirectErrorStream(true).start();
		String first = new String(child.getInputStream().readAllBytes()).split("\n")[0];
		KeyStore cas = KeyStore.getInstance(new File(System.getProperty("java.home") + "/lib/security/cacerts"),
			(char[]) null);
		System.out.println(System.getProperty("java.version") + " threads " + sum.get() + " crc " + crc.getValue()
			+ " child [" + first + "] " + child.waitFor() + " cas>100 " + (cas.size() > 100) + " tls "
			+ SSLContext.getDefault().getSupportedSSLParameters().getProtocols()[0]
			+ " clock " + (System.currentTimeMillis() > 1700000000000L));
	}
}
