# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash
#
# KTAP cases from a scenario script, in the guest or in a dom0 hook,
# sourced as ". /lib-ktap.sh" (xen-vm.sh puts it at / on both sides).
# A hook's "ok N ..." lines reach the report as "# ok N ..." and count as
# cases, as the guest's do.  $fails counts the failed ones.

n=0
fails=0
ok()
{
	n=$((n + 1))
	echo "ok $n $1"
}
notok()
{
	n=$((n + 1))
	fails=$((fails + 1))
	echo "not ok $n $1"
}
# same A B: A is not empty and B is the same.
same()
{
	[ -n "$1" ] && [ "$1" = "$2" ]
}
# check DESCRIPTION COMMAND...: one case, passed if COMMAND succeeds.
check()
{
	local what=$1

	shift
	if "$@"; then ok "$what"; else notok "$what"; fi
}
