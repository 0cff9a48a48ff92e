# The runenv images: `make runenv` builds kontainapp/runenv-python from
# Debian's sources with the SDK (runenv/python/prefix.sh caches that build
# by content), and kontainapp/runenv-node and -java from Debian's binary
# packages, into build/runenv/LANG: an OCI layout, its tar, and a
# docker-archive; then prints each one's size against its goal. And
# kontainapp/buildenv-python, the build stage of python apps with native code.
RUNENV_OUT := $(BUILD)/runenv
DEPS_PACKAGES += skopeo ca-certificates ca-certificates-java netbase python3.11 dpkg-dev icu-devtools

# The sources of runenv-python's parts, which toolchain.bats builds with
# runenv/python's recipes.
RUNENV_PARTS := $(shell awk '!/^\#/ { print $$1 }' runenv/python/sources/versions)
RUNENV_SOURCES := $(patsubst %,$(BUILD)/sources/%/.fetched,$(RUNENV_PARTS))
$(BUILD)/sources/%/.fetched: runenv/python/sources/%.sha256 runenv/python/sources/versions | $(DEPS_STAMP)
	$(TOP)/runenv/python/fetch.sh $* >/dev/null
	touch $@

runenv: runenv-python runenv-node runenv-java buildenv-python

runenv-python: sdk $(RUNENV_SOURCES) | $(DEPS_STAMP)
	dir=$$(runenv/python/prefix.sh) && runenv/python/image.sh "$$dir/prefix" $(RUNENV_OUT)/python
	@runenv/image-size.sh $(RUNENV_OUT)/python/oci kontainapp/runenv-python 25

# The build stage of runenv-python apps with native code (kontain-python-link).
buildenv-python: sdk $(RUNENV_SOURCES) | $(DEPS_STAMP)
	dir=$$(runenv/python/prefix.sh) && runenv/buildenv-python/image.sh "$$dir/prefix" $(RUNENV_OUT)/buildenv-python
	@runenv/image-size.sh $(RUNENV_OUT)/buildenv-python/oci kontainapp/buildenv-python 200

runenv-node: sdk | $(DEPS_STAMP)
	runenv/node/image.sh $(RUNENV_OUT)/node
	@runenv/image-size.sh $(RUNENV_OUT)/node/oci kontainapp/runenv-node 80

runenv-java: sdk | $(DEPS_STAMP)
	runenv/java/image.sh $(RUNENV_OUT)/java
	@runenv/image-size.sh $(RUNENV_OUT)/java/oci kontainapp/runenv-java 180

.PHONY: runenv runenv-python runenv-node runenv-java buildenv-python
