/* A QEMU TCG plugin that counts executed guest instructions and, each time the program executes
 * the marker instruction of board.h (Thumb `mov r8, r8` on Arm, `addi x0, x0, 1` on RISC-V),
 * appends the count so far as a line to the file given by its `out=` argument. The difference
 * of two lines is the exact number of instructions executed between two markers: the same binary
 * gives the same count on every run.
 *
 * Blocks without a marker add their length once per execution (cheap); blocks with a marker
 * count instruction by instruction so the count at the marker is exact. */
#include "qemu-plugin-api.h"

#include <stdio.h>
#include <string.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = 1;

static uint64_t executed;
static FILE *out;

/* The marker's bytes as they appear in memory (little-endian) for the guest architecture. Both
 * markers announce their own length (a Thumb halfword 0x46c0 is a whole 16-bit instruction; a
 * RISC-V word ending in binary 11 is a whole 32-bit one), so only the leading bytes are compared:
 * when an instruction ends in the last bytes of a (1 KiB) page, QEMU's Thumb translator reads
 * the next halfword to decide where the block ends and appends it to the instruction's plugin
 * data, which then reports 4 bytes for the 2-byte marker. */
struct marker {
  const char *architecture;
  size_t size;
  uint8_t bytes[4];
};
static const struct marker markers[] = {
    {"arm", 2, {0xc0, 0x46}},
    {"riscv32", 4, {0x13, 0x00, 0x10, 0x00}},
};
static const struct marker *marker;

static int is_marker(const struct qemu_plugin_insn *insn) {
  return qemu_plugin_insn_size(insn) >= marker->size &&
         memcmp(qemu_plugin_insn_data(insn), marker->bytes, marker->size) == 0;
}

static void record(unsigned int vcpu, void *userdata) {
  (void)vcpu;
  (void)userdata;
  fprintf(out, "%llu\n", (unsigned long long)executed);
  fflush(out);
}

static void translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  size_t n = qemu_plugin_tb_n_insns(tb), i;
  int marked = 0;
  (void)id;
  for (i = 0; i < n; ++i) marked |= is_marker(qemu_plugin_tb_get_insn(tb, i));
  if (!marked) {
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &executed, n);
    return;
  }
  for (i = 0; i < n; ++i) {
    struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
    if (is_marker(insn))
      qemu_plugin_register_vcpu_insn_exec_cb(insn, record, QEMU_PLUGIN_CB_NO_REGS, NULL);
    qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &executed, 1);
  }
}

static void finish(qemu_plugin_id_t id, void *userdata) {
  (void)id;
  (void)userdata;
  fclose(out);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                           int argc, char **argv) {
  size_t i;
  for (i = 0; i < sizeof markers / sizeof markers[0]; ++i)
    if (strcmp(info->target_name, markers[i].architecture) == 0) marker = &markers[i];
  if (!marker) {
    fprintf(stderr, "edgesplit insn plugin: no marker instruction known for %s\n",
            info->target_name);
    return -1;
  }
  if (argc != 1 || strncmp(argv[0], "out=", 4) != 0) {
    fprintf(stderr, "edgesplit insn plugin: expected one argument out=FILE\n");
    return -1;
  }
  out = fopen(argv[0] + 4, "w");
  if (!out) {
    perror(argv[0] + 4);
    return -1;
  }
  qemu_plugin_register_vcpu_tb_trans_cb(id, translate);
  qemu_plugin_register_atexit_cb(id, finish, NULL);
  return 0;
}
