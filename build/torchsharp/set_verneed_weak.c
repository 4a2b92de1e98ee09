/*
 * set_verneed_weak FILE.so VERSION
 *
 * Sets VER_FLG_WEAK on every requirement named VERSION (e.g. GLIBCXX_3.4.32) in the .gnu.version_r
 * (verneed) table of a 64-bit ELF shared object, in place.
 *
 * Why: the dynamic loader refuses to load a library whose verneed table asks for a version that the
 * providing library (here libstdc++.so.6) does not define - even when no symbol uses that version any
 * more. A weak requirement is only reported under LD_DEBUG, never fatal. patchelf can clear a symbol's
 * version but has no option to weaken or drop the requirement itself, hence these few lines.
 */
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s FILE.so VERSION\n", argv[0]);
        return 2;
    }
    const char *path = argv[1], *version = argv[2];

    int fd = open(path, O_RDWR);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        perror(path);
        return 1;
    }
    size_t size = (size_t)st.st_size;
    unsigned char *base = size >= sizeof(Elf64_Ehdr)
        ? mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) : MAP_FAILED;
    const Elf64_Ehdr *ehdr = (const Elf64_Ehdr *)base;
    if (base == MAP_FAILED || memcmp(ehdr->e_ident, ELFMAG, SELFMAG) != 0
        || ehdr->e_ident[EI_CLASS] != ELFCLASS64
        || ehdr->e_shoff + (size_t)ehdr->e_shnum * sizeof(Elf64_Shdr) > size) {
        fprintf(stderr, "%s: not a 64-bit ELF file\n", path);
        return 1;
    }

    const Elf64_Shdr *sections = (const Elf64_Shdr *)(base + ehdr->e_shoff);
    int marked = 0;
    for (int s = 0; s < ehdr->e_shnum; s++) {
        if (sections[s].sh_type != SHT_GNU_verneed)
            continue;
        /* The names in the table are offsets into the string table that sh_link points at (.dynstr). */
        const char *strings = (const char *)base + sections[sections[s].sh_link].sh_offset;
        /* sh_info holds the number of Elf64_Verneed entries (one per needed library); each is followed
         * by vn_cnt Elf64_Vernaux entries (one per version wanted from that library), chained by offsets. */
        unsigned char *need = base + sections[s].sh_offset;
        for (Elf64_Word n = 0; n < sections[s].sh_info; n++) {
            const Elf64_Verneed *verneed = (const Elf64_Verneed *)need;
            unsigned char *aux = need + verneed->vn_aux;
            for (Elf64_Half a = 0; a < verneed->vn_cnt; a++) {
                Elf64_Vernaux *vernaux = (Elf64_Vernaux *)aux;
                if (strcmp(strings + vernaux->vna_name, version) == 0) {
                    vernaux->vna_flags |= VER_FLG_WEAK;
                    marked++;
                }
                aux += vernaux->vna_next;
            }
            need += verneed->vn_next;
        }
    }

    if (msync(base, size, MS_SYNC) != 0 || munmap(base, size) != 0 || close(fd) != 0) {
        perror(path);
        return 1;
    }
    if (marked == 0) {
        fprintf(stderr, "%s: no version requirement named %s\n", path, version);
        return 1;
    }
    return 0;
}
