/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz-plugins.h - keep plugins mapped while libFuzzer runs. */
#ifndef NETBE_TEST_FUZZ_PLUGINS_H
#define NETBE_TEST_FUZZ_PLUGINS_H

/*
 * fuzz_keep_plugins_loaded() - dlopen every .so of NETBE_PLUGIN_PATH with RTLD_NODELETE,
 * once. A runtime freed after each input dlclose()s its plugins; in a build instrumented
 * for coverage, libFuzzer would then clear counters of a plugin that is no longer mapped.
 * The loader's own dlopen of the same file finds this one and shares it.
 */
void fuzz_keep_plugins_loaded(void);

#endif /* NETBE_TEST_FUZZ_PLUGINS_H */
