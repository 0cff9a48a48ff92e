/*
 * /init of the qemu peer's initramfs: prints the hello line and ends the VM
 * (a reboot, which qemu -no-reboot turns into its exit).
 */
#include <stdio.h>
#include <sys/reboot.h>
#include <unistd.h>

int main(void)
{
	puts("Hello, world!");
	fflush(stdout);
	reboot(RB_AUTOBOOT);
	return 1;
}
