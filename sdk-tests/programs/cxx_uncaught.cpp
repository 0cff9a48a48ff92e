// An exception nobody catches ends the program through std::terminate (SIGABRT).
#include <stdexcept>

int main()
{
	throw std::logic_error("nobody catches this");
}
