// The C++ hello whose size the bench reports: iostreams pull in most of the runtime.
#include <iostream>

int main()
{
	std::cout << "Hello, world!" << std::endl;
	return 0;
}
