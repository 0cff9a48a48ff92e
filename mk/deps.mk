# Debian packages the build and the tests need, installed once when missing.
# Other fragments may add theirs with `DEPS_PACKAGES += name`; every rule
# that runs a build tool depends on $(DEPS_STAMP) (order-only).
DEPS_PACKAGES += gcc g++ make binutils linux-libc-dev dpkg-dev \
	patch patchutils xz-utils file bats bats-assert bats-support
DEPS_STAMP := $(BUILD)/stamps/deps
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

deps: $(DEPS_STAMP)

# $(call install-missing,label,packages): apt-get install those not installed yet.
define install-missing
	@missing=$$(for p in $(sort $(2)); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "$(1): installing" $$missing; \
		$(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q -o DPkg::Lock::Timeout=600 \
			--no-install-recommends $$missing; \
	fi
	@mkdir -p $(@D) && touch $@
endef

$(DEPS_STAMP): $(wildcard $(TOP)/Makefile $(TOP)/mk/*.mk $(TOP)/*/*.mk)
	$(call install-missing,deps,$(DEPS_PACKAGES))

.PHONY: deps
