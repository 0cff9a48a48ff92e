# make demo: the SDK, then hello.c built with it and run by km.
DEMO_DIR := $(BUILD)/demo

demo: sdk
	@mkdir -p $(DEMO_DIR)
	printf '#include <stdio.h>\nint main(int argc, char **argv)\n{\n\tprintf("Hello, %%s!\\n", argc > 1 ? argv[1] : "world");\n\treturn 0;\n}\n' >$(DEMO_DIR)/hello.c
	$(PREFIX)/bin/kontain-gcc -O2 -o $(DEMO_DIR)/hello.km $(DEMO_DIR)/hello.c
	@if [ -e /dev/kvm ]; then \
		echo "+ km hello.km world"; $(PREFIX)/bin/km $(DEMO_DIR)/hello.km world; \
	else \
		echo "+ km hello.km world   (no /dev/kvm here: in the nested test VM)"; \
		$(TOP)/sdk-tests/vm/run-in-vm -- $(PREFIX)/bin/km $(DEMO_DIR)/hello.km world; \
	fi

.PHONY: demo
