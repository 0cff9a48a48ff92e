# The nested test VM (sdk-tests/vm): QEMU/TCG with an emulated AMD SVM CPU, so
# that hosts without /dev/kvm still run the suites against a real KVM.
#   make vm-probe    boot the VM and check that its /dev/kvm runs guest code
VM_RUN := $(TOP)/sdk-tests/vm/run-in-vm
KVM_PROBE := $(BUILD)/vm/kvm-probe

$(KVM_PROBE): sdk-tests/vm/kvm-probe.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) -O2 $(WARN) -o $@ $<

vm-probe: $(KVM_PROBE)
	$(VM_RUN) -- $(KVM_PROBE)

.PHONY: vm-probe
