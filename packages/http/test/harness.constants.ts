/** The secrets every test app is configured with (kept apart so that global setups can import them cheaply). */
export const SECRET = "test-secret-0123456789-abcdefghijklmnop";
export const URL_KEY = "url-key-0123456789-abcdefghijklmnopqrstuv";
