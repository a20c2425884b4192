export type BrowserName = 'chromium' | 'firefox' | 'webkit';
export declare const ALL_BROWSERS: readonly BrowserName[];
export declare function parseBrowsers(env?: string): BrowserName[];
export declare function findMiniBrowser(): string | null;
export declare function ensureBrowsers(names: readonly BrowserName[], options?: { log?: (message: string) => void }): Record<string, string>;
