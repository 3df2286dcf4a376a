# Turn a text file into a C string constant (bdb_rules_builtin_text), so the
# built-in rules ship inside the binary without xxd or a resource compiler.
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" n)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
math(EXPR len "${n} / 2")
file(WRITE ${OUT}
  "/* Generated from src/lib/rules.txt by cmake/embed.cmake: do not edit. */\n"
  "#include <stddef.h>\n"
  "extern const char bdb_rules_builtin_text[];\n"
  "extern const size_t bdb_rules_builtin_len;\n"
  "const char bdb_rules_builtin_text[] = {${bytes}0x00};\n"
  "const size_t bdb_rules_builtin_len = ${len};\n")
