// import_helpers: the shared fixture for tests of a filter's share of
// `mxscreen import-postfix`. Header-only; it writes a main.cf into a temporary
// folder, runs the import, and returns one filter's entry and the warnings,
// or builds the resulting YAML into a config.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>

#include "core/gateway_config.h"
#include "core/import_postfix.h"
#include "tests/support/scratch_dir.h"

namespace mxs::test {

class PostfixImportTest : public ScratchDirTest {
 protected:
  // `filter` names the entry that Run returns and Built looks up.
  explicit PostfixImportTest(std::string filter)
      : ScratchDirTest(filter + "_import"), filter_(std::move(filter)) {}
  // The YAML of the filter's entry (empty when none) and the warnings, for a
  // minimal main.cf followed by `extra`.
  std::pair<std::string, std::string> Run(const std::string& extra) {
    ImportPostfixOptions o;
    o.main_cf = Write("main.cf",
                      "myhostname = mx.example.com\ncompatibility_level = 3.6\n"
                      "inet_protocols = ipv4\nmynetworks = 127.0.0.0/8\n" +
                          extra);
    std::ostringstream out;
    std::ostringstream err;
    EXPECT_EQ(RunImportPostfix(o, out, err), 0);
    yaml_ = out.str();
    std::string entry;
    size_t at = yaml_.find("      - name: " + filter_ + "\n");
    if (at != std::string::npos) {
      size_t end = yaml_.find("\n      - ", at);
      entry = yaml_.substr(at, end == std::string::npos ? std::string::npos : end + 1 - at);
    }
    return {entry, err.str()};
  }
  // The built chain entry of the filter from the last Run's YAML.
  const ChainEntry* Built() {
    std::ofstream(dir_ + "/mxscreen.yaml") << yaml_;
    config_ = BuildGatewayConfig(LoadBootstrapFile(dir_ + "/mxscreen.yaml"), dir_);
    for (const auto& e : config_->listeners[0]->chain) {
      if (e.name == filter_) return &e;
    }
    return nullptr;
  }

  std::string filter_;
  std::string yaml_;
  std::shared_ptr<const GatewayConfig> config_;
};

}  // namespace mxs::test
