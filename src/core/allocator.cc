#include "core/allocator.h"

#include <malloc.h>

namespace koi {

void TuneAllocator() {
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
}

}  // namespace koi
