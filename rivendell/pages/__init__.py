"""One module per route, each with the state it needs beside it."""
