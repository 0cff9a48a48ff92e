# make packages: the SDK as build/packages/kontain_$(VERSION)_amd64.deb and
# kontain-$(VERSION).x86_64.rpm, from one staged tree (packaging/stage.sh),
# linted by packaging/check-packages.sh (lintian and rpmlint errors fail it).
#   make test-packages   install each package into a throwaway Debian root and
#                        use it there (sdk-tests/packaging.bats); make test too
PKG_DIR := $(BUILD)/packages
PKG_STAGE := $(PKG_DIR)/stage
DEB := $(PKG_DIR)/kontain_$(VERSION)_amd64.deb
RPM := $(PKG_DIR)/kontain-$(VERSION).x86_64.rpm
PKG_STAGED := $(BUILD)/stamps/packages-staged
PKG_LINTED := $(BUILD)/stamps/packages-linted
PKG_INPUTS := $(TOP)/VERSION $(wildcard $(TOP)/packaging/* $(TOP)/packaging/*/*)

DEPS_PACKAGES += rpm rpm2cpio cpio rpmlint lintian debootstrap

$(PKG_STAGED): $(SDK_PARTS) $(PKG_INPUTS) | $(DEPS_STAMP)
	$(TOP)/packaging/stage.sh $(PREFIX) $(MUSL_WORK)/src $(PKG_STAGE)
	@mkdir -p $(@D) && touch $@

$(DEB): $(PKG_STAGED)
	$(TOP)/packaging/build-deb.sh $(PKG_STAGE) $(VERSION) $@ $(KM_LIB_PACKAGES) $(KRUN_LIB_PACKAGES)

$(RPM): $(PKG_STAGED)
	$(TOP)/packaging/build-rpm.sh $(PKG_STAGE) $(VERSION) $@ $(KM_LIB_PACKAGES) $(KRUN_LIB_PACKAGES)

$(PKG_LINTED): $(DEB) $(RPM)
	$(TOP)/packaging/check-packages.sh $(DEB) $(RPM)
	@mkdir -p $(@D) && touch $@

packages: $(PKG_LINTED)

package-check: $(DEB) $(RPM)
	$(TOP)/packaging/check-packages.sh $(DEB) $(RPM)

test-packages: packages
	$(TOP)/sdk-tests/run $(TOP)/sdk-tests/packaging.bats

# make test runs packaging.bats too (sdk-tests/run), so it needs the packages.
test: packages

.PHONY: packages package-check test-packages
