// A bounded random driver for LLVMFuzzerTestOneInput when libFuzzer is not available (g++ builds): mutates the
// target's small corpus of interesting inputs (KoiFuzzCorpus, defined beside each target) with a seeded PRNG, so a
// failure reproduces with the same --seed. Shared by every fuzz target in the tree.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
std::vector<std::string> KoiFuzzCorpus();

int main(int argc, char** argv) {
  long iterations = 100000;
  unsigned seed = 1;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--iterations") == 0) iterations = std::strtol(argv[i + 1], nullptr, 10);
    if (std::strcmp(argv[i], "--seed") == 0) seed = static_cast<unsigned>(std::strtoul(argv[i + 1], nullptr, 10));
  }
  const std::vector<std::string> corpus = KoiFuzzCorpus();
  const char* tokens[] = {"%", "%2", "/", "..", "?", "&", "=", "{", "}", "[", "]", "\"", "\\u", ":", ",", "\n",
                          "\x00", "\xff", "\xe9\x94", "%00", "null", "1e308", "-0"};
  std::mt19937 rng(seed);
  for (long it = 0; it < iterations; ++it) {
    std::string s = corpus[rng() % corpus.size()];
    int edits = 1 + rng() % 6;
    for (int e = 0; e < edits; ++e) {
      size_t pos = s.empty() ? 0 : rng() % (s.size() + 1);
      switch (rng() % 4) {
        case 0: s.insert(pos, tokens[rng() % (sizeof(tokens) / sizeof(*tokens))]); break;
        case 1: if (!s.empty() && pos < s.size()) s.erase(pos, 1 + rng() % 4); break;
        case 2: if (!s.empty() && pos < s.size()) s[pos] = static_cast<char>(rng() % 256); break;
        case 3: s.insert(pos, std::string(1 + rng() % 3, static_cast<char>(rng() % 256))); break;
      }
    }
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  }
  std::printf("fuzz: %ld inputs, no failures (seed %u)\n", iterations, seed);
  return 0;
}
