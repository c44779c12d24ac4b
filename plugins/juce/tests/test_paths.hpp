// Paths given on the test program's command line (see main.cpp).
#pragma once

#include <string>

namespace rill::plugin::test {

struct TestPaths {
    std::string models; // directory written by make_test_models.py
    std::string drive;  // assets/effect/drive_tcn.rill
    std::string vst3;   // the built Rill.vst3 bundle
    std::string rill;   // the rill command
    std::string work;   // a scratch directory for this run
};

const TestPaths& paths();

} // namespace rill::plugin::test
