// Entry of the script-tag build: everything public, under the global `RealtimeFallback`.
export * from './index';
