# SPDX-License-Identifier: GPL-2.0
#
# ioreq, built out of tree.  Kbuild reads ./Kbuild; this file is for people.
#
#   make [KDIR=<kernel build dir>]  build drivers/ioreq/ioreq.ko and
#                                   drivers/ioreq/vmm/ioreq_vmm.ko
#   make modules_install            install them into KDIR's kernel (as root)
#   make clean
#
# Development, as root on Debian 12 (each installs what it needs):
#   make deps    packages, 6.1 and 6.12 headers, guest kernels, linux-source
#   make lint    W=1 + sparse builds for 6.1 and 6.12, checkpatch --strict,
#                kernel-doc
#   make intree  drivers/ioreq/ built inside linux-source-6.1 (Kconfig), W=1
#   make check   deps, lint, intree, builds, selftests in QEMU guests
#   make demo    the modules and tools/ at work in a QEMU guest
#   make deb     Debian packages ioreq-dkms, ioreq-tools, libioreq-dev
#                into .build/deb/ (debian/, lintian-checked)
#
# Cached downloads and unpacked kernels live in /var/cache/ioreq
# (IOREQ_CACHE); scratch files in .build/.

KDIR ?= /lib/modules/$(shell uname -r)/build

all: modules

kdir-check = @test -f $(KDIR)/Makefile || { echo "KDIR=$(KDIR) is not a \
kernel build directory: install the linux-headers package of the kernel \
or pass KDIR=<dir>" >&2; exit 1; }

modules:
	$(kdir-check)
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

modules_install:
	$(kdir-check)
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install

# Without a KDIR (a machine with no headers) remove kbuild's output by
# name: the files its clean target would.
clean:
	@if [ -f $(KDIR)/Makefile ]; then \
		$(MAKE) -C $(KDIR) M=$(CURDIR) clean; \
	else \
		find . \( -path ./.git -o -path ./.build -o -path ./tools \
			-o -path ./selftests \) -prune -o -type f \
			\( -name '*.o' -o -name '*.ko' -o -name '*.mod' \
			-o -name '*.mod.c' -o -name '.*.cmd' -o -name '.*.d' \
			-o -name 'modules.order' -o -name 'Module.symvers' \) \
			-exec rm -f {} +; \
	fi
	rm -rf .build

deps:
	@scripts/deps.sh

lint:
	@scripts/lint.sh

intree:
	@scripts/intree.sh

check:
	@scripts/check.sh

# Only the debug lane (KASAN + lockdep + kmemleak kernel); make check runs it too.
check-debug:
	@IOREQ_KERNELS= scripts/check.sh

demo:
	@scripts/demo.sh

bench:
	@scripts/bench.sh

# Debian packages (debian/) into .build/deb/, lintian-checked.
deb:
	@scripts/deb.sh

.PHONY: all modules modules_install clean deps lint intree check check-debug demo bench \
	deb
