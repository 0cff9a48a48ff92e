/* Calls a syscall km does not serve (acct) and reports what came back. */
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	long rc = syscall(SYS_acct, NULL);
	printf("acct: %s\n", rc == -1 && errno == ENOSYS ? "ENOSYS" : "unexpected");
	return 0;
}
