/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Things a C test program tells scripts/run-tests.sh about itself.
 *
 * TRUTH_TEST_TIMEOUT(N): this program may run N seconds instead of the
 * runner's default (TRUTH_TEST_TIMEOUT in the environment, else 600).  The
 * runner finds the string "truth-timeout: N" in the binary, so the macro
 * must be used once, at file scope.  The kselftest harness keeps its own
 * per-test limit (TEST_F's timeout) inside that.
 */
#ifndef TRUTH_SELFTESTS_TRUTH_TEST_H
#define TRUTH_SELFTESTS_TRUTH_TEST_H

#define TRUTH_TEST_TIMEOUT(seconds)                                          \
	static const char truth_test_timeout_[] __attribute__((used)) =     \
		"truth-timeout: " #seconds

#endif
