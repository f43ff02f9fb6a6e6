/* The loader is config_loader.c. */
