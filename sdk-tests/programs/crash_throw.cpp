// An exception nobody catches, three calls deep: std::terminate aborts (SIGABRT, core).
#include <cstdio>
#include <stdexcept>
#include <string>

__attribute__((noinline)) void parse_config(const std::string &text)
{
	if (text.empty())
		throw std::runtime_error("empty configuration");
}

__attribute__((noinline)) void load(const char *name)
{
	std::printf("loading %s\n", name);
	std::fflush(stdout);
	parse_config("");
}

int main()
{
	load("app.conf");
	return 0;
}
