# SPDX-License-Identifier: GPL-2.0
#
# Count the test cases of a guest's KTAP report: prints "PASSED FAILED
# SKIPPED".  Each program's own result lines ("# ok N ...", one level of
# "# " deep) are its cases; a program's top-level "selftests:" line counts
# only when the program reported no case of its own (it crashed, timed
# out, or skipped as a whole) or failed although all its cases passed.
# Other top-level lines (insmod, rmmod, dom0 steps) count as they are.
# Used by vmtest.sh and ../xen/xen-vm.sh.
function top(line) {
	if (line ~ /# [Ss][Kk][Ii][Pp]/) return "skip"
	return (line ~ /^not ok /) ? "fail" : "pass"
}
/^# (not )?ok [0-9]+/ {
	sub(/^# /, "")
	r = top($0)
	cases++
	if (r == "fail") cfail++
	c[r]++
	next
}
/^(not )?ok [0-9]+ / {
	r = top($0)
	if ($0 ~ /^(not )?ok [0-9]+ selftests: /) {
		if (cases == 0)
			c[r]++
		else if (r == "fail" && cfail == 0)
			c["fail"]++
		cases = 0; cfail = 0
		next
	}
	c[r]++
	cases = 0; cfail = 0
}
END { printf "%d %d %d\n", c["pass"], c["fail"], c["skip"] }
