"""Page images of stored documents for the web app's viewer: rendered from the kept original, cached on disk, with
each page's size and the lines a citation's quote sits on."""
