/* replay_main: runs a fuzz target over its seed corpus without libFuzzer,
 * so the corpus is replayed as an ordinary test in every build (gcc too).
 * Usage: TARGET_replay FILE_OR_DIR... */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

static int run_file(const char* path) {
  FILE* f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "replay: cannot read %s\n", path);
    return -1;
  }
  size_t cap = 4096, size = 0, n;
  uint8_t* data = malloc(cap);
  while (data && (n = fread(data + size, 1, cap - size, f)) > 0) {
    size += n;
    if (size == cap) data = realloc(data, cap *= 2);
  }
  fclose(f);
  if (!data) return -1;
  LLVMFuzzerTestOneInput(data, size);
  free(data);
  return 1;
}

int main(int argc, char** argv) {
  int count = 0;
  for (int i = 1; i < argc; ++i) {
    struct stat st;
    if (stat(argv[i], &st) != 0) {
      fprintf(stderr, "replay: cannot read %s\n", argv[i]);
      return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
      if (run_file(argv[i]) < 0) return 1;
      count++;
      continue;
    }
    DIR* d = opendir(argv[i]);
    struct dirent* e;
    while (d && (e = readdir(d)) != NULL) {
      char path[4096];
      if (e->d_name[0] == '.') continue;
      snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
      if (run_file(path) < 0) return 1;
      count++;
    }
    if (d) closedir(d);
  }
  printf("replayed %d inputs\n", count);
  return count > 0 ? 0 : 1;
}
