/* no_symbol_plugin: a shared object without the entry symbol. */
int mxscreen_not_a_plugin(void) { return 0; }
