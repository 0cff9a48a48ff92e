// Takes 16 MiB, says so, then asks for far more than a small container has.
public class Hog {
	public static void main(String[] args) {
		byte[] kept = new byte[16 << 20];
		System.out.println("16 MiB: ok");
		byte[] more = new byte[400 << 20];
		System.out.println(kept.length + more.length);
	}
}
