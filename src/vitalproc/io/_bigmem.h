/* Big column buffers of the packet walk (_parse.pyx).
 *
 * On Linux, a column past BIG_COLUMN bytes moves to an anonymous mapping with transparent
 * huge pages: the first touch of fresh memory (a page fault per 4 kB) otherwise costs more
 * than the walk itself, and mremap grows a mapping without copying it. Elsewhere, or when
 * built with VITALPROC_PORTABLE defined (VITALPROC_PORTABLE=1 python setup.py build_ext),
 * every column stays on the heap and grows with realloc: the same results, a little slower.
 * Each function returns NULL on failure.
 */
#ifndef VITALPROC_BIGMEM_H
#define VITALPROC_BIGMEM_H

#include <stddef.h>

#if defined(__linux__) && !defined(VITALPROC_PORTABLE)
#include <sys/mman.h>

#define VP_MAPPED 1

static void* vp_map(size_t size) {
    void* p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    madvise(p, size, MADV_HUGEPAGE);
    return p;
}

static void* vp_remap(void* p, size_t old_size, size_t size) {
    p = mremap(p, old_size, size, MREMAP_MAYMOVE);
    if (p == MAP_FAILED)
        return NULL;
    madvise(p, size, MADV_HUGEPAGE);
    return p;
}

static void vp_unmap(void* p, size_t size) {
    munmap(p, size);
}

#else

#define VP_MAPPED 0

/* Never called: with VP_MAPPED 0 no column is mapped. */
static void* vp_map(size_t size) { (void)size; return NULL; }
static void* vp_remap(void* p, size_t old_size, size_t size) {
    (void)p; (void)old_size; (void)size; return NULL;
}
static void vp_unmap(void* p, size_t size) { (void)p; (void)size; }

#endif

#endif
