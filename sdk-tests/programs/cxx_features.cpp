// C++ runtime: exceptions across frames, static ctors/dtors, iostream, STL, sstream, locale.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <locale>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

static int constructed = 0;

struct Global {
	std::string name;
	explicit Global(const char *n) : name(n) { constructed++; }
	~Global() { std::printf("static dtor %s\n", name.c_str()); }
};

static Global first("first");
static Global second("second");

struct custom_error : std::runtime_error {
	int code;
	custom_error(const std::string &m, int c) : std::runtime_error(m), code(c) {}
};

[[gnu::noinline]] static int depth(int n)
{
	if (n == 0)
		throw custom_error("deep", 42);
	std::vector<std::string> guard(3, "frame");  // destroyed while unwinding
	return depth(n - 1) + static_cast<int>(guard.size());
}

static void fail(const char *what)
{
	std::cerr << "FAIL: " << what << std::endl;
	std::exit(1);
}

int main()
{
	if (constructed != 2)
		fail("static constructors did not run");
	std::cout << "ok: static ctors" << std::endl;

	try {
		depth(20);
		fail("no exception");
	} catch (const custom_error &e) {
		if (e.code != 42 || std::string(e.what()) != "deep")
			fail("wrong exception");
	}
	try {
		std::vector<int> v;
		v.at(3);
		fail("at() did not throw");
	} catch (const std::out_of_range &) {
	}
	try {
		throw 7;
	} catch (int i) {
		if (i != 7)
			fail("int exception");
	}
	std::cout << "ok: exceptions across frames" << std::endl;

	std::map<std::string, int> counts;
	for (auto w : { "b", "a", "c", "a" })
		counts[w]++;
	std::vector<int> v{ 5, 3, 9, 1 };
	std::sort(v.begin(), v.end());
	auto p = std::make_unique<std::string>("unique");
	if (counts["a"] != 2 || counts.begin()->first != "a" || v.front() != 1 || *p != "unique")
		fail("containers");
	std::cout << "ok: map vector sort unique_ptr" << std::endl;

	std::ostringstream out;
	out << "pi=" << 3.25 << " hex=" << std::hex << 255;
	std::istringstream in("17 words");
	int n;
	std::string word;
	in >> n >> word;
	if (out.str() != "pi=3.25 hex=ff" || n != 17 || word != "words")
		fail(("sstream: " + out.str()).c_str());
	std::cout << "ok: sstream" << std::endl;

	std::locale loc = std::locale::classic();
	if (!std::isalpha('x', loc) || std::toupper('q', loc) != 'Q')
		fail("locale");
	std::cout << "ok: locale" << std::endl;
	return 0;
}
