/* Prints a greeting with its user id; built with gcc -static (see Dockerfile). */
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv) {
  const char *name = argc > 1 ? argv[1] : "world";
  printf("hello, %s, from a static binary (uid %u)\n", name, (unsigned)getuid());
  return 0;
}
