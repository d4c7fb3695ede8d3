#ifndef VADDR_H
#define VADDR_H

typedef uint64_t vaddr;

#endif
