export interface Size {
  min: number;
  gzip: number;
  brotli: number;
  lazy: Size | null;
  /** The code that loads up front (bundle() results only). */
  initialText?: string;
}
export declare const ROOT: string;
export declare const TARGETS: { esmDefaultGzip: number; umdGzip: number };
export declare function compressed(text: string): Omit<Size, 'lazy'>;
export declare function measureOurs(): Promise<{ esm: Size; wsOnly: Size; wsOnlyEstimate: Size; srcDefault: Size; umd: Omit<Size, 'lazy'> & { lazy?: null } }>;
export declare function measureOthers(): Promise<Record<string, { esm: Size; umd: Omit<Size, 'lazy'> | null }>>;
export declare function kb(bytes: number): string;
