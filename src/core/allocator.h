// Settings of glibc's allocator for a process that holds a large in-memory index and copies parts of it per request.
#pragma once

namespace koi {

// By default glibc gives memory back to the system whenever the top of a heap has 128 KB free, and serves big
// requests from fresh mappings. At 10 million customers one segment evaluation copies bitmaps of a megabyte or more
// and frees them, so every evaluation faulted its memory in again (zeroed pages and the fault path: about 12 % of the
// samples). Keeping up to 64 MB free at a heap's top, and mapping only requests of 32 MB or more, took the hard
// rule's p99 from 10.3 to 6.9 ms (bench/results/segments.md). Call once at start, before threads.
void TuneAllocator();

}  // namespace koi
