// stats_command_test: the fixture for tests of the `mxscreen stats` command
// (core/stats_cli.h): a scratch folder for the logs, and Run() with the
// command's output and errors kept in out_ and err_.
#pragma once

#include <sstream>

#include "core/stats_cli.h"
#include "tests/support/scratch_dir.h"

namespace mxs::test {

class StatsCommandTest : public ScratchDirTest {
 protected:
  StatsCommandTest() : ScratchDirTest("stats_cli") {}
  int Run(StatsCliOptions o) {
    out_.str("");
    err_.str("");
    return RunStatsCommand(o, out_, err_);
  }
  std::ostringstream out_, err_;
};

}  // namespace mxs::test
