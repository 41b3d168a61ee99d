// sculpt: the command line entry point (verbs are added in cmd_<verb>.cpp).
int main() { return 0; }
