<?php
/**
 * The hub's pay URL of an order: the template of `bluepaid shop show` with the order's
 * entity id and its protect_code, which proves to the hub that the buyer holds the order.
 */

namespace Bluepaid\Hub\Model;

class PayUrl
{
    /**
     * The pay URL, or '' when it cannot be made safely: a template that is not https
     * (http only on the merchant's own machine) or lacks one of its placeholders, an id
     * that is not a number, an empty protect code.
     *
     * @param string $template
     * @param int|string $entityId
     * @param string $protectCode
     * @return string
     */
    public static function build($template, $entityId, $protectCode)
    {
        $template = trim((string) $template);
        $entityId = (string) $entityId;
        $protectCode = (string) $protectCode;
        $local = preg_match('#^http://(127\.0\.0\.1|localhost)(:[0-9]+)?/#', $template) === 1;
        if (strpos($template, 'https://') !== 0 && !$local) {
            return '';
        }
        if (substr_count($template, '{order_ref}') !== 1 || substr_count($template, '{key}') !== 1) {
            return '';
        }
        if (!ctype_digit($entityId) || $protectCode === '') {
            return '';
        }
        return strtr($template, array('{order_ref}' => $entityId, '{key}' => rawurlencode($protectCode)));
    }
}
