// One page of a source PDF, as an image the panel's width (served by /api/pages/…), with the lines the answer
// quotes highlighted on the cited page. The other pages are a click away; the whole PDF opens in a new tab.
import { useState } from 'react';

export default function PdfPage() {
  const [page, setPage] = useState(props.page || 1);
  const [loaded, setLoaded] = useState(false);
  const pages = props.pages || page;
  const boxes = page === props.page ? props.boxes || [] : [];
  const go = (next) => {
    if (next < 1 || next > pages || next === page) return;
    setLoaded(false);
    setPage(next);
  };
  const firstBox = (element) => {
    if (element) element.scrollIntoView({ block: 'center' });
  };
  return (
    <div className="pdf-page flex flex-col gap-2">
      <div className="flex items-center justify-between gap-2 text-xs text-muted-foreground">
        <button type="button" className="pdf-previous underline disabled:opacity-40 disabled:no-underline"
                disabled={page <= 1} onClick={() => go(page - 1)}>‹ Page précédente</button>
        <span className="pdf-page-number">Page {page} / {pages}</span>
        <button type="button" className="pdf-next underline disabled:opacity-40 disabled:no-underline"
                disabled={page >= pages} onClick={() => go(page + 1)}>Page suivante ›</button>
      </div>
      <div style={{ position: 'relative', width: '100%' }}>
        {loaded ? null : <div className="pdf-loading p-6 text-center text-sm text-muted-foreground">Chargement…</div>}
        <img key={page} src={props.image.replace('{page}', String(page))}
             alt={`Page ${page} de « ${props.title} »`} onLoad={() => setLoaded(true)}
             style={{ width: '100%', height: 'auto', display: loaded ? 'block' : 'none', border: '1px solid hsl(var(--border))' }} />
        {loaded ? boxes.map((box, i) => (
          <div key={i} className="pdf-highlight" ref={i === 0 ? firstBox : undefined}
               style={{ position: 'absolute', left: `${box.left * 100}%`, top: `${box.top * 100}%`,
                        width: `${box.width * 100}%`, height: `${box.height * 100}%`,
                        background: 'rgba(250, 204, 21, 0.4)', mixBlendMode: 'multiply', borderRadius: '2px' }} />
        )) : null}
      </div>
      <div className="text-xs text-muted-foreground">
        {props.details} · <a className="underline" href={props.pdf} target="_blank" rel="noopener noreferrer">Ouvrir le PDF complet</a>
      </div>
    </div>
  );
}
