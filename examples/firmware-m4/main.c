/* Firmware of the firmware-m4 example: reads one sample of each IMU (a window of the .npy files
 * named on the command line, fetched by semihosting as a stand-in for the sensors' drivers),
 * runs the model that edgesplit generated at build time and prints the class over the UART.
 *
 *   firmware WRIST.npy ANKLE.npy [SAMPLE]     (SAMPLE: the window's index, default 0)
 *
 * Exit status 0 after printing "class N", 1 on a missing or malformed input file. */
#include "board.h"
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The largest input of the model, in floats. */
enum { MAX_INPUT_FLOATS = 1024, MAX_CLASSES = 64 };

static float window[MAX_INPUT_FLOATS];

static void print(const char *text) { es_uart_write((const uint8_t *)text, strlen(text)); }

/* Reads window `sample` of a little-endian float32 .npy file (format 1.0, C order): the header
 * is the magic, two version bytes, a 2-byte length and a Python dict naming the dtype. */
static int read_window(const char *path, long sample, float *values, size_t count) {
  unsigned char preamble[10];
  char header[256];
  size_t header_length;
  int ok = 0;
  FILE *file = fopen(path, "rb");
  if (!file) return 0;
  if (fread(preamble, 1, sizeof preamble, file) == sizeof preamble &&
      memcmp(preamble, "\x93NUMPY\x01", 7) == 0) {
    header_length = (size_t)preamble[8] | (size_t)preamble[9] << 8;
    if (header_length < sizeof header && fread(header, 1, header_length, file) == header_length) {
      header[header_length] = '\0';
      ok = strstr(header, "'descr': '<f4'") && strstr(header, "'fortran_order': False") &&
           fseek(file, sample * (long)(count * sizeof(float)), SEEK_CUR) == 0 &&
           fread(values, sizeof(float), count, file) == count;
    }
  }
  fclose(file);
  return ok;
}

int main(int argc, char **argv) {
  const long sample = argc > 3 ? strtol(argv[3], NULL, 10) : 0;
  float scores[MAX_CLASSES];
  char line[32];
  int input, best = 0, klass;

  es_uart_init();
  if (argc < 1 + ACTIVITY_INPUT_COUNT) {
    print("usage: firmware WRIST.npy ANKLE.npy [SAMPLE]\n");
    return 1;
  }
  activity_init();
  for (input = 0; input < ACTIVITY_INPUT_COUNT; ++input) {
    const size_t count = (size_t)activity_input_size(input);
    if (count > MAX_INPUT_FLOATS || !read_window(argv[1 + input], sample, window, count)) {
      print("cannot read a window of ");
      print(argv[1 + input]);
      print("\n");
      return 1;
    }
    activity_set_input_f32(input, window);
  }
  activity_run();
  if (activity_output_size(0) > MAX_CLASSES) return 1;
  activity_get_output_f32(0, scores);
  /* The first of equal scores wins, as numpy's argmax. */
  for (klass = 1; klass < activity_output_size(0); ++klass)
    if (scores[klass] > scores[best]) best = klass;
  snprintf(line, sizeof line, "class %d\n", best);
  print(line);
  return 0;
}
