// replay_main: runs a fuzz target over its seed corpus without libFuzzer, so
// the corpus is replayed as an ordinary test in every build (g++ included).
// Usage: TARGET_replay FILE_OR_DIR...
#include <dirent.h>
#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

static int RunFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string data = ss.str();
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  return 1;
}

int main(int argc, char** argv) {
  int count = 0;
  for (int i = 1; i < argc; ++i) {
    struct stat st;
    if (stat(argv[i], &st) != 0) {
      std::fprintf(stderr, "replay: cannot read %s\n", argv[i]);
      return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
      count += RunFile(argv[i]);
      continue;
    }
    DIR* d = opendir(argv[i]);
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] == '.') continue;
      count += RunFile(std::string(argv[i]) + "/" + e->d_name);
    }
    closedir(d);
  }
  std::printf("replayed %d inputs\n", count);
  return count > 0 ? 0 : 1;
}
